package main

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/go-sql-driver/mysql"

	"github.com/koha-webhooks/koha-webhooks/internal/config"
	"github.com/koha-webhooks/koha-webhooks/internal/daemon"
	"github.com/koha-webhooks/koha-webhooks/internal/kohaconf"
)

// defaultInstanceName names the one instance served when no instance is
// named, in logs, metrics and /readyz.
const defaultInstanceName = "default"

// serveInstances returns the instances named by --instance or
// --all-instances, or the single instance that flags and environment
// describe.
func serveInstances(f *serveFlags, getenv func(string) string) ([]daemon.Instance, error) {
	names := []string(f.instances)
	if f.allInstances {
		if len(names) > 0 {
			return nil, errors.New("give either --instance or --all-instances, not both")
		}
		var err error
		if names, err = listInstances(getenv(config.SitesDirEnv)); err != nil {
			return nil, err
		}
	}
	if len(names) == 0 {
		name := strings.TrimSpace(getenv("KOHA_INSTANCE"))
		flags := map[string]string{}
		if f.dsn != "" {
			flags["database"] = f.dsn
		}
		if f.kohaConf != "" {
			flags["koha_conf"] = f.kohaConf
		}
		if name == "" {
			name = defaultInstanceName
		}
		return []daemon.Instance{{Name: name, Settings: instanceSettings(flags, getenv, "")}}, nil
	}

	if len(names) > 1 {
		// With several instances, a database or koha-conf.xml given once
		// would apply to all of them.
		if f.dsn != "" || f.kohaConf != "" {
			return nil, errors.New("--dsn and --koha-conf name one instance's database; with several instances each database comes from its koha-conf.xml")
		}
		for _, env := range []string{"KOHA_DB_DSN", "KOHA_CONF"} {
			if getenv(env) != "" {
				return nil, fmt.Errorf("%s is set but several instances are served: unset it, because each instance's database comes from its koha-conf.xml", env)
			}
		}
	}
	instances := make([]daemon.Instance, 0, len(names))
	for _, name := range names {
		flags := map[string]string{"instance": name}
		if f.dsn != "" {
			flags["database"] = f.dsn
		}
		archiveSubdir := ""
		if len(names) > 1 {
			archiveSubdir = name
		}
		instances = append(instances, daemon.Instance{Name: name, Settings: instanceSettings(flags, getenv, archiveSubdir)})
	}
	return instances, nil
}

// listInstances returns the names of the directories under sitesDir (the
// Debian default when empty) that hold a koha-conf.xml, sorted.
func listInstances(sitesDir string) ([]string, error) {
	if sitesDir == "" {
		sitesDir = kohaconf.DefaultSitesDir
	}
	entries, err := os.ReadDir(sitesDir)
	if err != nil {
		return nil, fmt.Errorf("cannot list Koha instances: %w (set %s to the directory of instances)", err, config.SitesDirEnv)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(sitesDir, e.Name(), "koha-conf.xml")); err == nil {
			names = append(names, e.Name())
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no Koha instance found: no directory of %s contains a koha-conf.xml", sitesDir)
	}
	sort.Strings(names)
	return names, nil
}

// instanceSettings returns a function that resolves an instance's settings
// from flags, environment, koha-conf.xml and Koha's database. When
// archiveSubdir is set, an archive directory given in the environment,
// which every instance shares, gets a subdirectory of that name, so that
// instances never write the same archive file.
func instanceSettings(flags map[string]string, getenv func(string) string, archiveSubdir string) func(context.Context) (*config.Settings, error) {
	return func(ctx context.Context) (*config.Settings, error) {
		loaded, err := config.Load(ctx, config.Inputs{Flags: flags, Getenv: getenv, RequireDelivery: true})
		if err != nil {
			return nil, err
		}
		// The daemon opens its own connection pool from the settings.
		loaded.Close()
		s := loaded.Settings
		if err := daemon.CheckSettings(s); err != nil {
			return nil, err
		}
		if archiveSubdir != "" && s.ArchivePath != "" && s.Values["archive_path"].Source == config.SourceEnv {
			s.ArchivePath = filepath.Join(s.ArchivePath, archiveSubdir)
		}
		return s, nil
	}
}

// checkInstances resolves every instance's settings once. It returns an
// error only when no instance can be served because each one's settings are
// invalid: a database that does not respond may come up later, and one bad
// instance must not keep the others from running.
func checkInstances(ctx context.Context, instances []daemon.Instance) error {
	errs := make([]error, len(instances))
	var wg sync.WaitGroup
	for i, in := range instances {
		wg.Go(func() {
			if _, err := in.Settings(ctx); err != nil {
				errs[i] = fmt.Errorf("instance %s: %w", in.Name, err)
			}
		})
	}
	wg.Wait()

	var failed []error
	for _, err := range errs {
		if err == nil || isConnectionError(err) {
			return nil
		}
		failed = append(failed, err)
	}
	if len(failed) == 1 && len(instances) == 1 {
		return errors.Unwrap(failed[0])
	}
	return errors.Join(failed...)
}

// isConnectionError reports whether err comes from reaching the database
// rather than from the settings.
func isConnectionError(err error) bool {
	var netErr net.Error
	var mysqlErr *mysql.MySQLError
	return errors.As(err, &netErr) || errors.As(err, &mysqlErr) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, mysql.ErrInvalidConn)
}
