"""MergeDesk: find, merge and cost duplicate patient records in Cliniko."""

__version__ = "0.1.0"
APP_NAME = "MergeDesk"
CONTACT_EMAIL = "support@mergedesk.app"
