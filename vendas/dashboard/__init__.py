"""The live dashboard (Streamlit) over the PostgreSQL tables."""
