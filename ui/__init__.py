"""glimpse's user interfaces: the `glimpse` command line and the Gradio web app."""
