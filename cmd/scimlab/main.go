// Command scimlab is a SCIM 2.0 conformance tester, reference server and IdP
// simulator. See README.md.
package main

import (
	"os"

	"github.com/scimlab/scimlab/cmd/scimlab/internal/cli"
)

func main() { os.Exit(int(cli.Main(os.Args[1:], os.Stdout, os.Stderr))) }
