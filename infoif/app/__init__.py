"""The app's glue, Streamlit-free: one tab's view of a workspace and its verbs (session), and the URL that mirrors it (urlstate). The pages in pages/ call these; nothing in infoif/ imports them."""
