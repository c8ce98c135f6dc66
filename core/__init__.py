"""Review Studio's product code. Nothing below this package imports streamlit."""
