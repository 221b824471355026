package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/koha-webhooks/koha-webhooks/internal/config"
)

// sourceFlags are the flags that name where the settings are read from,
// shared by every subcommand that reads Koha's database.
type sourceFlags struct {
	dsn, kohaConf, instance string
}

func (f *sourceFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.dsn, "dsn", "", "Koha database DSN (overrides KOHA_DB_DSN and the database of koha-conf.xml)")
	fs.StringVar(&f.kohaConf, "koha-conf", "", "path of the Koha instance's koha-conf.xml (overrides KOHA_CONF)")
	fs.StringVar(&f.instance, "instance", "", "Koha instance name: reads /etc/koha/sites/NAME/koha-conf.xml (overrides KOHA_INSTANCE)")
}

// values returns the flags that were given, by setting name.
func (f *sourceFlags) values() map[string]string {
	values := map[string]string{}
	for name, value := range map[string]string{"database": f.dsn, "koha_conf": f.kohaConf, "instance": f.instance} {
		if value != "" {
			values[name] = value
		}
	}
	return values
}

func resolveRunSettings(f *runFlags, getenv func(string) string) (*config.Settings, error) {
	flagValues := f.sourceFlags.values()
	if f.archivePath != "" {
		flagValues["archive_path"] = f.archivePath
	}
	if f.testMode {
		flagValues["test_mode"] = "1"
	}
	if f.verbose > 0 {
		flagValues["verbose"] = fmt.Sprint(min(int(f.verbose), 3))
	}
	loaded, err := config.Load(context.Background(), config.Inputs{Flags: flagValues, Getenv: getenv, RequireDelivery: true})
	if err != nil {
		return nil, err
	}
	// The pass opens its own connection pool from the settings.
	loaded.Close()
	return loaded.Settings, nil
}
