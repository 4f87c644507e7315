"""What a `salespipe run` says: the full log of each run in a file under the data folder
(files.py, capture.py), and the compact live view on the terminal (live.py)."""
