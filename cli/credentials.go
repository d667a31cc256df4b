package cli

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/trunkctl/trunkctl/internal/awsclient"
	"github.com/trunkctl/trunkctl/internal/awserr"
)

// explainCredentials is the one sentence for a profile that does not exist
// or credentials that could not be had, with the step that fixes it: the
// profiles that do exist, `aws sso login` for an SSO profile, `aws
// configure sso` or `aws configure` when there is nothing to log in to.
func explainCredentials(err error, profile string) (string, bool) {
	var missing config.SharedConfigProfileNotExistError
	var missingPtr *config.SharedConfigProfileNotExistError
	if errors.As(err, &missing) || errors.As(err, &missingPtr) {
		name := missing.Profile
		if missingPtr != nil {
			name = missingPtr.Profile
		}
		configFile, credentialsFile := awsclient.SharedFiles()
		return fmt.Sprintf("AWS profile %q is in neither %s nor %s (%s); pass one that exists with --%s, or create it with "+
			"aws configure sso --profile %s (IAM Identity Center) or aws configure --profile %s (access keys)",
			name, configFile, credentialsFile, profileList(awsclient.Profiles()), flagProfile, name, name), true
	}
	var ce *awsclient.CredentialsError
	if !errors.As(err, &ce) && !awserr.IsExpiredCredentials(err) {
		return "", false
	}
	// Read the shared files only for an error they can explain.
	profiles := awsclient.Profiles()
	p, exists := profiles[profile]
	switch {
	case exists && p.SSO:
		return fmt.Sprintf("no valid AWS credentials for profile %s (its SSO session is missing or expired); run aws sso login --profile %s (detail: %s)",
			profile, profile, awserr.Message(err)), true
	case exists:
		return fmt.Sprintf("no valid AWS credentials for profile %s (missing or expired); check its keys or role with aws configure --profile %s, "+
			"or choose another profile with --%s (detail: %s)", profile, profile, flagProfile, awserr.Message(err)), true
	case os.Getenv("AWS_ACCESS_KEY_ID") != "":
		return fmt.Sprintf("the AWS credentials in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY were refused or are incomplete (detail: %s)", awserr.Message(err)), true
	default:
		return fmt.Sprintf("no AWS credentials found (no AWS_ACCESS_KEY_ID, no profile %s, no instance or container role); "+
			"set them up with aws configure sso (IAM Identity Center) or aws configure (access keys)%s", profile, pickAProfile(profiles)), true
	}
}

// profileList names the profiles for a sentence.
func profileList(profiles map[string]awsclient.Profile) string {
	names := awsclient.ProfileNames(profiles)
	if len(names) == 0 {
		return "there are no profiles"
	}
	return "profiles there: " + strings.Join(names, ", ")
}

// pickAProfile offers the existing profiles, if any.
func pickAProfile(profiles map[string]awsclient.Profile) string {
	names := awsclient.ProfileNames(profiles)
	if len(names) == 0 {
		return ""
	}
	return ", or pass one of your profiles with --" + flagProfile + " (" + strings.Join(names, ", ") + ")"
}
