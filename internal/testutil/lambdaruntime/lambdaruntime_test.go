package lambdaruntime_test

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trunkctl/trunkctl/internal/testutil/lambdaruntime"
)

func TestAnInvocationIsServedWithItsDeadlineAndItsResponseReturned(t *testing.T) {
	s := lambdaruntime.Start(t)
	inv := s.Invoke([]byte(`{"hello":"world"}`), 3*time.Second)
	base := "http://" + s.Addr() + "/2018-06-01/runtime/invocation/"

	resp, err := http.Get(base + "next")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != `{"hello":"world"}` {
		t.Errorf("payload = %s", body)
	}
	id := resp.Header.Get("Lambda-Runtime-Aws-Request-Id")
	if id != inv.ID {
		t.Errorf("request id = %q, want %q", id, inv.ID)
	}
	ms, err := strconv.ParseInt(resp.Header.Get("Lambda-Runtime-Deadline-Ms"), 10, 64)
	if err != nil || ms != inv.Deadline.UnixMilli() {
		t.Errorf("deadline header = %q, want %d", resp.Header.Get("Lambda-Runtime-Deadline-Ms"), inv.Deadline.UnixMilli())
	}
	if resp.Header.Get("Lambda-Runtime-Invoked-Function-Arn") != lambdaruntime.FunctionARN {
		t.Errorf("function ARN header missing")
	}

	post, err := http.Post(base+id+"/response", "application/json", strings.NewReader("null"))
	if err != nil {
		t.Fatal(err)
	}
	post.Body.Close()
	res, err := inv.Wait(time.Second)
	if err != nil || res.Kind != "response" || string(res.Body) != "null" {
		t.Errorf("Wait = %+v, %v", res, err)
	}
	// A second answer to the same invocation is refused.
	again, err := http.Post(base+id+"/error", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	again.Body.Close()
	if again.StatusCode != http.StatusBadRequest {
		t.Errorf("second answer got HTTP %d, want 400", again.StatusCode)
	}
}

func TestCloseReleasesAPendingNext(t *testing.T) {
	s := lambdaruntime.Start(t)
	done := make(chan int, 1)
	go func() {
		resp, err := http.Get("http://" + s.Addr() + "/2018-06-01/runtime/invocation/next")
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	for end := time.Now().Add(5 * time.Second); s.Polls() == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("the next call never arrived")
		}
	}
	s.Close()
	select {
	case code := <-done:
		if code != http.StatusGone {
			t.Errorf("pending next got %d, want 410", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not release the pending next")
	}
}
