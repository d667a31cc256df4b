package cli

import (
	"bytes"
	"testing"
)

func TestYAMLOutputKeepsTheJSONFieldNamesAndOrder(t *testing.T) {
	v := struct {
		Roles []struct {
			RoleArn string `json:"roleArn"`
			Value   string `json:"effectiveValue"`
			Error   string `json:"error,omitempty"`
		} `json:"roles"`
		Count int  `json:"count"`
		OK    bool `json:"ok"`
	}{Count: 2, OK: true}
	v.Roles = append(v.Roles, struct {
		RoleArn string `json:"roleArn"`
		Value   string `json:"effectiveValue"`
		Error   string `json:"error,omitempty"`
	}{RoleArn: "arn:aws:iam::123456789012:role/EcsInstance", Value: "enabled"})
	var buf bytes.Buffer
	if err := writeYAML(&buf, v); err != nil {
		t.Fatal(err)
	}
	want := "roles:\n  - roleArn: arn:aws:iam::123456789012:role/EcsInstance\n    effectiveValue: enabled\ncount: 2\nok: true\n"
	if buf.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", buf.String(), want)
	}
}

func TestYAMLOutputQuotesStringsThatWouldReadAsOtherTypes(t *testing.T) {
	var buf bytes.Buffer
	if err := writeYAML(&buf, map[string]string{"a": "true", "b": "3", "c": "yes: no"}); err != nil {
		t.Fatal(err)
	}
	want := "a: \"true\"\nb: \"3\"\nc: 'yes: no'\n"
	if buf.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", buf.String(), want)
	}
}
