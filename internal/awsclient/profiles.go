package awsclient

import (
	"bufio"
	"os"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/config"
)

// Profile is a named profile of the shared config and credentials files.
type Profile struct {
	Name string
	// SSO says it signs in through IAM Identity Center (sso_session or
	// sso_start_url): `aws sso login` renews its credentials.
	SSO bool
}

// SharedFiles are the shared config and credentials files the SDK reads
// (AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/).
func SharedFiles() (configFile, credentialsFile string) {
	configFile, credentialsFile = config.DefaultSharedConfigFilename(), config.DefaultSharedCredentialsFilename()
	if f := os.Getenv("AWS_CONFIG_FILE"); f != "" {
		configFile = f
	}
	if f := os.Getenv("AWS_SHARED_CREDENTIALS_FILE"); f != "" {
		credentialsFile = f
	}
	return configFile, credentialsFile
}

// Profiles lists the profiles of the shared files, by name. A missing or
// unreadable file has none.
func Profiles() map[string]Profile {
	configFile, credentialsFile := SharedFiles()
	out := map[string]Profile{}
	readSections(configFile, true, out)
	readSections(credentialsFile, false, out)
	return out
}

// ProfileNames are the profiles' names, sorted.
func ProfileNames(ps map[string]Profile) []string {
	names := make([]string, 0, len(ps))
	for n := range ps {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// readSections adds the profiles of one INI file: "[profile NAME]" and
// "[default]" in the config file, "[NAME]" in the credentials file.
func readSections(path string, isConfig bool, out map[string]Profile) {
	f, err := os.Open(path) //nolint:gosec // the shared config files the SDK itself reads
	if err != nil {
		return
	}
	defer f.Close()
	cur := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			name := strings.TrimSpace(line[1 : len(line)-1])
			cur = ""
			switch {
			case !isConfig:
				cur = name
			case name == "default":
				cur = name
			case strings.HasPrefix(name, "profile "):
				cur = strings.TrimSpace(strings.TrimPrefix(name, "profile "))
			}
			if cur != "" {
				p := out[cur]
				p.Name = cur
				out[cur] = p
			}
			continue
		}
		if cur == "" || !isConfig {
			continue
		}
		key, _, _ := strings.Cut(line, "=")
		if k := strings.TrimSpace(key); k == "sso_session" || k == "sso_start_url" {
			p := out[cur]
			p.SSO = true
			out[cur] = p
		}
	}
}
