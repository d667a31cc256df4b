// Command gentemplates writes templates/ (make templates): the CloudFormation
// templates generated from the CDK stacks, for deployment without the CDK.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/aws/jsii-runtime-go"

	"github.com/trunkctl/trunkctl/cdk/cfntemplates"
)

func main() {
	out := flag.String("out", "templates", "directory to write the templates to")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "gentemplates:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	defer jsii.Close()
	work, err := os.MkdirTemp("", "gentemplates-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	files, err := cfntemplates.Generate(work)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		path := filepath.Join(out, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, files[name], 0o644); err != nil {
			return err
		}
		fmt.Println("wrote", path)
	}
	return nil
}
