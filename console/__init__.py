"""The operator console core: settings, users, dashboards, reports. No Streamlit here."""
