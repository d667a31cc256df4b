package cfntemplates_test

import (
	"os"
	"testing"

	"github.com/aws/jsii-runtime-go"

	"github.com/trunkctl/trunkctl/cdk/internal/cdktest"
)

func TestMain(m *testing.M) {
	cdktest.QuietNode()
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}
