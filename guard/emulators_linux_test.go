package main

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/trunkctl/trunkctl/internal/testutil/lambdaproc"
	"github.com/trunkctl/trunkctl/internal/testutil/peer"
)

// rieFunction is the guard run by AWS's Lambda Runtime Interface Emulator.
type rieFunction struct{ *lambdaproc.RIEFunction }

// invoke sends ev as the emulator's caller would; the function failed it
// when the emulator answers an object with errorMessage.
func (f rieFunction) invoke(t *testing.T, ev []byte) (bool, string) {
	t.Helper()
	b := f.Invoke(t, ev, 60*time.Second)
	var e struct {
		ErrorMessage string `json:"errorMessage"`
	}
	_ = json.Unmarshal(b, &e)
	return e.ErrorMessage != "", string(b)
}

func (f rieFunction) output() string { return f.Out.String() }

func TestUnderTheRuntimeInterfaceEmulator(t *testing.T) {
	if testing.Short() {
		t.Skip("the emulator tests run the built guard against moto_server")
	}
	rie := peer.BuiltTool(t, "aws-lambda-rie", lambdaproc.RIEBinaryEnv)
	bin := guardBinary(t)
	eventKinds(t, func(t *testing.T, env []string) invoker {
		return rieFunction{lambdaproc.StartRIE(t, rie, []string{bin}, 60, env...)}
	})
}

func TestTheArm64BootstrapSweepsUnderQEMU(t *testing.T) {
	if testing.Short() {
		t.Skip("runs dist/guard.zip's arm64 bootstrap against moto_server")
	}
	runner := peer.Arm64Runner(t)
	bootstrap := lambdaproc.UnzipBootstrap(t, peer.Artifact(t, "dist/guard.zip", "guard"))
	eventKinds(t, func(t *testing.T, env []string) invoker {
		return localInvoker{f: lambdaproc.Start(t, append(runner, bootstrap), env...)}
	})
}
