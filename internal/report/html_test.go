package report

import (
	"bytes"
	"html/template"
	"math/rand"
	"strings"
	"testing"
)

// TestEscapingIsHTMLTemplates checks esc against the html/template the page
// was once written with (a test may link it; the binary must not): in text,
// in a quoted attribute and in <title>, byte for byte, on hostile strings.
func TestEscapingIsHTMLTemplates(t *testing.T) {
	tmpl := template.Must(template.New("").Parse(`<title>{{.}}</title><p title="{{.}}">{{.}}</p>`))
	pieces := []string{"a", "é", "<", ">", "&", "'", `"`, "+", "\x00", "\xff", "\xc3", "\ufdd0", "\uffff", "\u2028",
		"`", `\`, "\n", "=", "</script>", "</style>", "<!--", "&amp;", "{{.}}", "\U0001F600", "%s"}
	cases := append([]string{"", `x" onerror="fetch('//example.com')`, `<img src="https://example.com/x.png">`}, pieces...)
	r := rand.New(rand.NewSource(1))
	for range 2000 {
		var b strings.Builder
		for range r.Intn(8) {
			b.WriteString(pieces[r.Intn(len(pieces))])
		}
		cases = append(cases, b.String())
	}
	for _, s := range cases {
		var want bytes.Buffer
		if err := tmpl.Execute(&want, s); err != nil {
			t.Fatal(err)
		}
		e := esc(s)
		if got := `<title>` + e + `</title><p title="` + e + `">` + e + `</p>`; got != want.String() {
			t.Errorf("esc(%q): got %q, html/template wrote %q", s, got, want.String())
		}
	}
}
