package trunking_test

import (
	"testing"

	"github.com/trunkctl/trunkctl/cdk/internal/cdktest"
)

func TestMain(m *testing.M) { cdktest.Main(m) }
