"""The one way NeuroScan writes dates and times: ISO-like, 24 h, with the zone's name.

Django looks here first (settings.FORMAT_MODULE_PATH), so templates (`|date:"DATETIME_FORMAT"`),
the admin's lists and forms, and neuroscan.timefmt (the PDF) all use these. "T" is the zone's
abbreviation in TIME_ZONE at that moment (UTC, CET/CEST, GMT/BST).
"""

DATETIME_FORMAT = "Y-m-d H:i T"
SHORT_DATETIME_FORMAT = "Y-m-d H:i T"
DATE_FORMAT = "Y-m-d"
SHORT_DATE_FORMAT = "Y-m-d"
TIME_FORMAT = "H:i"
