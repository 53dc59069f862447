"""The ground every domain stands on: settings, database, errors, i18n, text, ids."""
