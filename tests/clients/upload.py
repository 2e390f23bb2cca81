# SPDX-License-Identifier: MIT
# python3 upload.py urllib|requests URL BODY_FILE TRIES: posts the file
# TRIES times, each on a new connection, with Python's urllib or with
# requests, and prints one line per try: "status CODE", or "error: WHAT".
import sys

library, url, body_file, tries = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
with open(body_file, "rb") as f:
    body = f.read()

if library == "requests":
    import requests

    def post():
        with requests.Session() as session:
            return session.post(url, data=body, timeout=30).status_code
else:
    import urllib.error
    import urllib.request

    def post():
        request = urllib.request.Request(url, data=body, method="POST")
        request.add_header("Content-Type", "application/octet-stream")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status
        except urllib.error.HTTPError as error:  # an answer, only not a 2xx
            return error.code

for _ in range(tries):
    try:
        print("status", post(), flush=True)
    except Exception as error:  # what the user of the library would see
        print("error:", type(error).__name__, str(error).replace("\n", " ")[:200], flush=True)
