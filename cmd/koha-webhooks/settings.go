package main

import (
	"fmt"

	"github.com/koha-webhooks/koha-webhooks/internal/config"
)

func resolveRunSettings(f *runFlags, getenv func(string) string) (*config.Settings, error) {
	flagValues := map[string]string{}
	if f.dsn != "" {
		flagValues["database"] = f.dsn
	}
	if f.archivePath != "" {
		flagValues["archive_path"] = f.archivePath
	}
	if f.testMode {
		flagValues["test_mode"] = "1"
	}
	if f.verbose > 0 {
		flagValues["verbose"] = fmt.Sprint(min(int(f.verbose), 3))
	}
	values := config.Resolve(config.MapLayer(config.SourceFlag, flagValues), config.EnvLayer(getenv))
	settings, err := config.Build(values)
	if err != nil {
		return nil, err
	}
	if settings.DSN == "" {
		return nil, &config.SettingError{Value: values["database"], Reason: "missing"}
	}
	if !settings.TestMode {
		if err := settings.CheckDelivery(); err != nil {
			return nil, err
		}
	}
	return settings, nil
}
