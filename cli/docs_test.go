package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trunkctl/trunkctl/internal/rollout/rollouttest"
	"github.com/trunkctl/trunkctl/internal/testutil/moto"
	"github.com/trunkctl/trunkctl/internal/testutil/peer"
)

// docs/cli.md is executable: every `$ trunkctl ...` it shows runs here, and
// the test fails when what trunkctl prints drifts from what the page shows.

const docsPath = "../docs/cli.md"

// docBlock is one fenced code block of the page and the heading above it.
type docBlock struct {
	section string   // the "## " heading it is under
	lead    string   // the paragraph just before it
	fence   string   // "bash", "console", "" ...
	lines   []string // its lines, fences excluded
	line    int      // line number of its first line
}

func readDocBlocks(t *testing.T) []docBlock {
	t.Helper()
	raw, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatal(err)
	}
	var blocks []docBlock
	var cur *docBlock
	var section string
	var para, last []string
	for i, l := range strings.Split(string(raw), "\n") {
		switch {
		case cur != nil && l == "```":
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.lines = append(cur.lines, l)
		case strings.HasPrefix(l, "```"):
			if len(para) == 0 {
				para = last
			}
			cur = &docBlock{section: section, lead: strings.Join(para, " "), fence: strings.TrimPrefix(l, "```"), line: i + 2}
			para, last = nil, nil
		case strings.HasPrefix(l, "## "):
			section, para, last = strings.TrimPrefix(l, "## "), nil, nil
		case strings.TrimSpace(l) == "":
			if len(para) > 0 {
				last, para = para, nil
			}
		default:
			para = append(para, l)
		}
	}
	return blocks
}

// docCommand is one `$ trunkctl ...` of a block: its arguments, the lines
// the page shows after it, and the exit code it shows ("(exit N)", or
// `$ echo $?` and N), -1 when none.
type docCommand struct {
	text string
	args []string
	want []string
	exit int
	line int
}

func commandsOf(t *testing.T, b docBlock) []docCommand {
	t.Helper()
	var cmds []docCommand
	for i, l := range b.lines {
		switch {
		case strings.HasPrefix(l, "$ echo $?"):
			if len(cmds) > 0 && i+1 < len(b.lines) {
				n, err := strconv.Atoi(strings.TrimSpace(b.lines[i+1]))
				if err != nil {
					t.Fatalf("docs/cli.md:%d: `echo $?` not followed by a number", b.line+i)
				}
				cmds[len(cmds)-1].exit = n
			}
		case strings.HasPrefix(l, "$ trunkctl"):
			text := strings.TrimPrefix(l, "$ ")
			if c, _, ok := strings.Cut(text, "   #"); ok {
				text = c
			}
			args, err := shellWords(strings.TrimPrefix(strings.TrimSpace(text), "trunkctl"))
			if err != nil {
				t.Fatalf("docs/cli.md:%d: %v", b.line+i, err)
			}
			cmds = append(cmds, docCommand{text: strings.TrimSpace(text), args: args, exit: -1, line: b.line + i})
		case strings.HasPrefix(l, "$ "):
			t.Fatalf("docs/cli.md:%d: a command the docs test does not run: %s", b.line+i, l)
		case len(cmds) == 0:
		case i > 0 && strings.HasPrefix(b.lines[i-1], "$ echo $?"):
		case regexp.MustCompile(`^\(exit \d+\)$`).MatchString(l):
			cmds[len(cmds)-1].exit, _ = strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(l, "(exit "), ")"))
		default:
			c := &cmds[len(cmds)-1]
			c.want = append(c.want, l) // "..." stands for lines the page leaves out
		}
	}
	for i := range cmds {
		for len(cmds[i].want) > 0 && cmds[i].want[len(cmds[i].want)-1] == "" {
			cmds[i].want = cmds[i].want[:len(cmds[i].want)-1]
		}
	}
	return cmds
}

// shellWords splits a command line as sh would, for the quoting the page uses.
func shellWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord, quote := false, rune(0)
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated quote in %q", s)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// runDocCommand runs a command with stdout and stderr on one stream, as the
// page shows them (interleaved), on streams that act as a terminal or not.
func runDocCommand(c docCommand, deps Deps, terminal bool) (string, ExitCode) {
	var both bytes.Buffer
	s := &IOStreams{In: strings.NewReader(""), Out: &both, ErrOut: &both, InIsTerminal: terminal, OutIsTerminal: terminal, NoColor: true}
	deps.IO = s
	code := Run(context.Background(), c.args, deps)
	return both.String(), code
}

// checkDocCommand compares a command's output with the page's after
// normalize, line for line, where a "..." line of the page stands for any
// number of lines (the page leaves them out).
func checkDocCommand(t *testing.T, c docCommand, got string, code ExitCode, normalize func([]string) []string) {
	t.Helper()
	g := normalize(strings.Split(strings.TrimRight(got, "\n"), "\n"))
	var segments [][]string
	cur := []string{}
	for _, l := range c.want {
		if l == "..." {
			segments, cur = append(segments, normalize(cur)), []string{}
			continue
		}
		cur = append(cur, l)
	}
	segments = append(segments, normalize(cur))
	if !matchSegments(g, segments) {
		t.Errorf("docs/cli.md:%d: `%s` printed (normalized):\n%s\nthe page shows (normalized):\n%s\nas printed:\n%s",
			c.line, c.text, strings.Join(g, "\n"), strings.Join(c.want, "\n"), got)
	}
	if c.exit >= 0 && int(code) != c.exit {
		t.Errorf("docs/cli.md:%d: `%s` exited %d, the page says %d", c.line, c.text, code, c.exit)
	}
}

// matchSegments reports whether got is segments[0], then anything, then
// segments[1], ..., then anything, then the last segment (which must end
// got; an empty one, after a final "...", matches anything).
func matchSegments(got []string, segments [][]string) bool {
	if len(segments) == 1 {
		return slices.Equal(got, segments[0])
	}
	first, last := segments[0], segments[len(segments)-1]
	if len(got) < len(first) || !slices.Equal(got[:len(first)], first) {
		return false
	}
	pos := len(first)
	for _, seg := range segments[1 : len(segments)-1] {
		found := false
		for i := pos; i+len(seg) <= len(got); i++ {
			if slices.Equal(got[i:i+len(seg)], seg) {
				pos, found = i+len(seg), true
				break
			}
		}
		if !found {
			return false
		}
	}
	return len(got)-pos >= len(last) && slices.Equal(got[len(got)-len(last):], last)
}

// motoIDs replaces what moto makes up afresh in each run (instance, ENI and
// container instance ids) with placeholders, and makes the lines an
// unordered set: rows are sorted by those ids. Retry notes of the two
// CloudTrail lookups, which run at once, interleave in any order, and which
// lookup's error the doctor reports depends on which gave up first.
func motoIDs(lines []string) []string {
	res := []struct {
		re   *regexp.Regexp
		with string
	}{
		{regexp.MustCompile(`\bi-[0-9a-f]{17}\b`), "i-ID"},
		{regexp.MustCompile(`\beni-[0-9a-f]{17}\b`), "eni-ID"},
		{regexp.MustCompile(`\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b`), "CONTAINER-INSTANCE-ID"},
		{regexp.MustCompile(`PutAccountSetting(Default)? events`), "PutAccountSetting[Default] events"},
	}
	var out []string
	seen := map[string]bool{}
	for _, l := range lines {
		for _, r := range res {
			l = r.re.ReplaceAllString(l, r.with)
		}
		if strings.HasPrefix(l, "retrying ") {
			if seen[l] {
				continue
			}
			seen[l] = true
		}
		out = append(out, l)
	}
	sort := slices.Clone(out)
	slices.Sort(sort)
	return sort
}

func asIs(lines []string) []string { return lines }

// blocksUnder returns the blocks of a section whose lead paragraph holds lead.
func blocksUnder(t *testing.T, blocks []docBlock, section, lead string) []docBlock {
	t.Helper()
	var out []docBlock
	for _, b := range blocks {
		if b.section == section && strings.Contains(b.lead, lead) {
			out = append(out, b)
		}
	}
	if len(out) == 0 {
		t.Fatalf("docs/cli.md has no block under %q after a paragraph with %q", section, lead)
	}
	return out
}

// The example session, its set-up run as written with the aws CLI against
// moto_server, then every trunkctl command of it in order; then the examples
// of the JSON and exit-code sections against the same cluster.
func TestDocsExampleSessionRunsAsWrittenAgainstMoto(t *testing.T) {
	if testing.Short() {
		t.Skip("runs moto_server and the aws CLI")
	}
	awsCLI := peer.LookPath(t, "aws", "pip install awscli")
	srv := moto.Start(t)
	srv.Env(t)
	blocks := readDocBlocks(t)
	setup := blocksUnder(t, blocks, "Example session", "This runs as written against moto_server")[0]
	var script []string
	for i := 0; i < len(setup.lines); i++ {
		l := setup.lines[i]
		switch {
		case strings.HasPrefix(l, "moto_server "):
		case strings.HasPrefix(l, "export AWS_ENDPOINT_URL="):
			for strings.HasSuffix(setup.lines[i], `\`) { // the test's environment points at its own server
				i++
			}
		default:
			script = append(script, l)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	sh := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", strings.Join(script, "\n"))
	sh.Env = append(os.Environ(), "PATH="+awsCLIDir(awsCLI)+string(os.PathListSeparator)+os.Getenv("PATH"))
	if out, err := sh.CombinedOutput(); err != nil {
		t.Fatalf("the session's set-up failed: %v\n%s\nmoto:\n%s", err, out, srv.Log())
	}
	deps := Deps{AWS: RealAWS, Fleet: RealFleetAWS}
	session := blocksUnder(t, blocks, "Example session", "Then, with stdout piped")
	for _, c := range commandsOf(t, session[0]) {
		got, code := runDocCommand(c, deps, false)
		checkDocCommand(t, c, got, code, motoIDs)
	}
	// The session ends with the role disabled; the JSON section shows it enabled.
	if _, code := runDocCommand(docCommand{args: []string{"enable", "--role", "EcsInstanceRole"}}, deps, false); code != ExitOK {
		t.Fatalf("enable: exit %d", code)
	}
	for _, b := range append(blocksUnder(t, blocks, "Global flags and environment", "as YAML"), blocksUnder(t, blocks, "Exit codes", "Errors with a known next step")...) {
		for _, c := range commandsOf(t, b) {
			got, code := runDocCommand(c, deps, false)
			checkDocCommand(t, c, got, code, motoIDs)
		}
	}
}

// awsCLIDir is the directory of the aws CLI found on PATH.
func awsCLIDir(path string) string {
	if i := strings.LastIndex(path, string(os.PathSeparator)); i > 0 {
		return path[:i]
	}
	return "."
}

// The terminal session of the page runs against the tests' fixture cluster.
func TestDocsTerminalSessionMatchesTheFixtureCluster(t *testing.T) {
	blocks := blocksUnder(t, readDocBlocks(t), "Example session", "On a terminal, against the test fixture cluster")
	n := 0
	for _, c := range commandsOf(t, blocks[0]) {
		got, code := runDocCommand(c, newWorld(t).deps(nil), true)
		checkDocCommand(t, c, got, code, asIs)
		n++
	}
	if n < 4 {
		t.Fatalf("only %d commands found in the terminal session", n)
	}
}

// The version section: the build's own version, commit, date and Go version
// differ from the page's; the layout and the catalog dates do not.
func TestDocsVersionShowsWhatVersionPrints(t *testing.T) {
	blocks := blocksUnder(t, readDocBlocks(t), "version", "")
	stamp := regexp.MustCompile(`^(trunkctl version|commit:|date:|go:)\s+.*$`)
	jsonStamp := regexp.MustCompile(`^(\s*"(version|commit|date|goVersion)": )".*"(,?)$`)
	normalize := func(lines []string) []string {
		out := make([]string, len(lines))
		for i, l := range lines {
			out[i] = jsonStamp.ReplaceAllString(stamp.ReplaceAllString(l, "$1 BUILD"), `$1"BUILD"$3`)
		}
		return out
	}
	n := 0
	for _, b := range blocks {
		cmds := commandsOf(t, b)
		if b.fence == "json" && strings.Contains(b.lead, "-o json") {
			cmds = []docCommand{{text: "trunkctl version -o json", args: []string{"version", "-o", "json"}, want: b.lines, exit: 0, line: b.line}}
		}
		for _, c := range cmds {
			got, code := runDocCommand(c, Deps{}, false)
			checkDocCommand(t, c, got, code, normalize)
			n++
		}
	}
	if n != 2 {
		t.Fatalf("%d version examples found, want the text and the JSON one", n)
	}
}

// Every block with a `$ trunkctl` line is in a section one of the tests
// here runs; a new example elsewhere fails until a test runs it.
func TestDocsEveryCommandExampleIsRun(t *testing.T) {
	run := map[string]bool{"Example session": true, "Global flags and environment": true, "Exit codes": true, "version": true,
		"Many accounts and Regions": true, "rollout": true}
	for _, b := range readDocBlocks(t) {
		if !slices.ContainsFunc(b.lines, func(l string) bool { return strings.HasPrefix(l, "$ trunkctl") }) {
			continue
		}
		if !run[b.section] {
			t.Errorf("docs/cli.md:%d: a `$ trunkctl` example under %q that no test runs", b.line, b.section)
		}
	}
}

// The page's figure for the binary's size holds for a build like `make`'s
// (within half a megabyte): a jump means something kept the linker from
// dropping dead code, as a cobra help template once did (15.6 MB to 60 MB).
func TestDocsBinarySizeIsTheBuildsSize(t *testing.T) {
	if testing.Short() {
		t.Skip("links trunkctl")
	}
	raw, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`a static binary\s+of about ([0-9.]+) MB for linux/amd64`).FindSubmatch(raw)
	if m == nil {
		t.Fatal("docs/cli.md does not give the binary's size as `a static binary of about N MB for linux/amd64`")
	}
	want, _ := strconv.ParseFloat(string(m[1]), 64)
	bin := t.TempDir() + "/trunkctl"
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w -buildid=", "-o", bin, "./trunkctl")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	st, err := os.Stat(bin)
	if err != nil {
		t.Fatal(err)
	}
	if got := float64(st.Size()) / 1e6; got < want-0.5 || got > want+0.5 {
		t.Fatalf("dist/trunkctl is %.1f MB; docs/cli.md says about %.1f MB", got, want)
	}
}

// The fleet view of the many-account section, against moto's organization:
// the management account and two members, a cluster of two instances in one
// member's us-east-1 and one of one trunked instance in the other's
// eu-west-1. moto makes the members' ids up, and which member got which
// cluster varies, so member ids are normalised and rows compared as a set.
func TestDocsFleetViewRunsAgainstMotosOrganization(t *testing.T) {
	if testing.Short() {
		t.Skip("runs moto_server")
	}
	caller, _ := motoOrganization(t)
	member := regexp.MustCompile(`\b[0-9]{12}\b`)
	normalize := func(lines []string) []string {
		out := make([]string, len(lines))
		for i, l := range lines {
			out[i] = member.ReplaceAllStringFunc(l, func(id string) string {
				if id == caller.Account() {
					return id
				}
				return "MEMBER-ACCOUNT"
			})
		}
		slices.Sort(out)
		return out
	}
	n := 0
	for _, b := range blocksUnder(t, readDocBlocks(t), "Many accounts and Regions", "Real output, against moto_server") {
		for _, c := range commandsOf(t, b) {
			got, code := runDocCommand(c, Deps{AWS: RealAWS, Fleet: RealFleetAWS}, true)
			checkDocCommand(t, c, got, code, normalize)
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d fleet examples run, want 1", n)
	}
}

// The rollout section's examples, against the rollout simulator on its
// virtual clock (a real rollout cannot be shown against moto, which reports
// every agent as 1.0.0 and drops the capabilities): each scenario is the one
// the page describes above its example.
func TestDocsRolloutExamplesRunAgainstTheSimulator(t *testing.T) {
	scenarios := map[string]struct {
		lead   string
		set    func(sim *rollouttest.Sim)
		answer string
	}{
		// Two groups, one at its MaxSize with scale-in protection, one
		// instance outside any group, the role not yet opted in; a service
		// on every slot; the question answered y on a terminal.
		"trunkctl rollout --cluster prod --max-unavailable 3": {lead: "against the simulated cluster of the tests", answer: "y\n", set: func(sim *rollouttest.Sim) {
			sim.AddGroup(rollouttest.GroupSpec{Name: "prod-web", Role: "ecsInstanceRole", Count: 4})
			sim.AddGroup(rollouttest.GroupSpec{Name: "prod-batch", Role: "ecsInstanceRole", Count: 2, Max: 2, Protect: true})
			sim.AddLoose("c5.large", "ecsInstanceRole")
			sim.AddService("web", 14, 100, 200)
		}},
		// The only group at its MaxSize, every slot taken by a service at
		// minimumHealthyPercent 100.
		"trunkctl rollout --cluster prod --max-unavailable 2 --yes": {lead: "A stop names what it saw", set: func(sim *rollouttest.Sim) {
			sim.AddGroup(rollouttest.GroupSpec{Name: "prod-web", Role: "ecsInstanceRole", Count: 4, Max: 4})
			sim.AddService("web", 8, 100, 200)
		}},
	}
	blocks := readDocBlocks(t)
	n := 0
	for _, b := range blocks {
		if b.section != "rollout" {
			continue
		}
		for _, c := range commandsOf(t, b) {
			sc, ok := scenarios[c.text]
			if !ok || !strings.Contains(b.lead, sc.lead) {
				t.Errorf("docs/cli.md:%d: `%s` has no simulator scenario in this test", c.line, c.text)
				continue
			}
			w := newRolloutWorld()
			sc.set(w.sim)
			var both bytes.Buffer
			terminal := sc.answer != ""
			// A terminal echoes what is typed after the question.
			s := &IOStreams{In: io.TeeReader(strings.NewReader(sc.answer), &both), Out: &both, ErrOut: &both,
				InIsTerminal: terminal, OutIsTerminal: terminal, NoColor: true}
			code := Run(context.Background(), c.args, w.deps(s))
			checkDocCommand(t, c, both.String(), code, asIs)
			n++
		}
	}
	if n != len(scenarios) {
		t.Fatalf("%d rollout examples run, want %d", n, len(scenarios))
	}
}
