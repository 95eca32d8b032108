"""Dashboards: the analytics read tools called through the bridge as DataFrames (`data`), and plotly figures
(`charts`). Pages place what these return; nothing here imports Streamlit."""
