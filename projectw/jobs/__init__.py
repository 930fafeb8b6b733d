"""Jobs: uploads, settings, encrypted storage, the job service and live events."""
