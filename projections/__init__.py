"""Pure folds from hublog events to read models (imports ``eventstore`` only)."""
