package envfile

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// Services lists the services under a manager directory: the
// subdirectories that hold an environments/ directory.
func Services(managerDir string) ([]string, error) {
	entries, err := os.ReadDir(managerDir)
	if err != nil {
		return nil, fmt.Errorf("reading manager directory: %w", err)
	}
	var out []string
	for _, ent := range entries {
		if !ent.IsDir() || ValidateService(ent.Name()) != nil {
			continue
		}
		if st, err := os.Stat(filepath.Join(managerDir, ent.Name(), "environments")); err == nil && st.IsDir() {
			out = append(out, ent.Name())
		}
	}
	sort.Strings(out)
	return out, nil
}

// ReadManager reads the environments of one service, or of every service
// when service is empty. Errors name the file and line.
func ReadManager(managerDir, service string) ([]Environment, []error) {
	services := []string{service}
	if service == "" {
		var err error
		if services, err = Services(managerDir); err != nil {
			return nil, []error{err}
		}
	} else if err := ValidateService(service); err != nil {
		return nil, []error{err}
	}
	var envs []Environment
	var errs []error
	for _, s := range services {
		e, es := ReadDir(EnvironmentsDir(managerDir, s))
		for _, x := range e {
			if x.Service != s {
				es = append(es, fmt.Errorf("%s: service %q is in the directory of %q", FileName(x), x.Service, s))
				continue
			}
			envs = append(envs, x)
		}
		errs = append(errs, es...)
	}
	return envs, errs
}
