#!/usr/bin/env python3
"""A ModelScope client written only from shared/spec/modelscope-protocol.md, with Python's `requests`.

It knows nothing about our code: if it can sign in, read model info, list and download files from
`modelscope serve`, then any client built from the same protocol can. It also leaves the sign-in the way
the official client does (a pickled `requests` cookie jar in <MODELSCOPE_HOME>/credentials/cookies).

Usage: MODELSCOPE_ENDPOINT=... MODELSCOPE_HOME=... SPEC_CLIENT_TOKEN=... spec_client.py MODEL_ID OUT_DIR
The token comes from the environment (never argv, never printed). Prints one JSON report on stdout.
"""
import hashlib
import json
import os
import pickle
import sys
import uuid
from urllib.parse import quote_plus, urlparse

import requests


def fail(message):
    print(json.dumps({"ok": False, "error": message}))
    sys.exit(1)


def headers(extra=None):
    # §2.2 / §3: JSON content type and a request id on every call.
    h = {"Content-Type": "application/json", "X-Request-ID": uuid.uuid4().hex, "User-Agent": "spec-client/1.0"}
    h.update(extra or {})
    return h


def unwrap(body):
    # §4.1: legacy {"Code","Data",...}; OpenAPI {"success","data",...}; else the body itself.
    if isinstance(body, dict):
        if "Data" in body:
            return body["Data"]
        if "data" in body:
            return body["data"]
    return body


def main():
    endpoint = os.environ["MODELSCOPE_ENDPOINT"].rstrip("/")
    home = os.environ["MODELSCOPE_HOME"]
    token = os.environ["SPEC_CLIENT_TOKEN"]
    model_id, out_dir = sys.argv[1], sys.argv[2]
    host = urlparse(endpoint).hostname
    report = {"ok": True}

    # §2.2 Login: POST /api/v1/login {"AccessToken"} with Bearer and the m_session_id cookie.
    r = requests.post(
        f"{endpoint}/api/v1/login",
        json={"AccessToken": token},
        headers=headers({"Authorization": f"Bearer {token}"}),
        cookies={"m_session_id": token},
        timeout=(10, 60),
    )
    if r.status_code != 200:
        fail(f"login answered {r.status_code}")
    body = r.json()
    if body.get("Code") != 200 or body.get("Success") is not True:
        fail("login envelope is not Code=200/Success=true")
    data = unwrap(body)
    report["login_username"] = data.get("Username")
    report["login_has_git_token"] = bool(data.get("AccessToken"))

    # Persist the server-issued cookie jar (response.cookies), as the official client does (§2.2, §2.6).
    jar = r.cookies
    if not any(c.name == "m_session_id" for c in jar):
        fail("login set no m_session_id cookie")
    report["cookie_expires_set"] = all(c.expires is not None for c in jar if c.name == "m_session_id")
    cred_dir = os.path.join(home, "credentials")
    os.makedirs(cred_dir, exist_ok=True)
    cookies_file = os.path.join(cred_dir, "cookies")
    with open(cookies_file, "wb") as f:
        pickle.dump(jar, f)
    os.chmod(cookies_file, 0o600)
    with open(os.path.join(cred_dir, "git_token"), "w") as f:
        f.write(data.get("AccessToken") or "")
    os.chmod(os.path.join(cred_dir, "git_token"), 0o600)
    with open(os.path.join(cred_dir, "user"), "w") as f:
        f.write(f"{data.get('Username')}:{data.get('Email')}")

    # §2.5 Token precedence, step 3: the m_session_id of the pickled jar, unless expired.
    with open(cookies_file, "rb") as f:
        loaded = pickle.load(f)
    session_token = next((c.value for c in loaded if c.name == "m_session_id" and not c.is_expired()), None)
    if not session_token:
        fail("the pickled jar holds no live m_session_id")

    # §2.4: legacy API calls carry Bearer + the m_session_id cookie, scoped to the endpoint host.
    s = requests.Session()
    s.cookies.set("m_session_id", session_token, domain=host, path="/")
    bearer = {"Authorization": f"Bearer {session_token}"}

    # §2.3 whoami: GET /openapi/v1/users/me with Bearer and both cookies.
    r = requests.get(
        f"{endpoint}/openapi/v1/users/me",
        headers=headers(bearer),
        cookies={"m_session_id": session_token, "modelscope_session": session_token},
        timeout=(10, 60),
    )
    if r.status_code != 200:
        fail(f"whoami answered {r.status_code}")
    me = unwrap(r.json())
    report["whoami"] = {k: me.get(k) for k in ("id", "username", "email")}

    # §3.1 Model info: OpenAPI first, legacy on 404.
    r = s.get(f"{endpoint}/openapi/v1/models/{model_id}", headers=headers(bearer), timeout=(10, 60))
    if r.status_code == 404:
        r = s.get(f"{endpoint}/api/v1/models/{model_id}", headers=headers(bearer), timeout=(10, 60))
    if r.status_code != 200:
        fail(f"model info answered {r.status_code}")
    info = unwrap(r.json())
    report["model_info_id"] = info.get("id") or f"{info.get('Path')}/{info.get('Name')}"
    report["model_private"] = info.get("private")

    # §3.3 Listing: GET repo/files?Revision=&Recursive=True; tree entries skipped.
    r = s.get(
        f"{endpoint}/api/v1/models/{model_id}/repo/files",
        params={"Revision": "master", "Recursive": "True"},
        headers=headers(bearer),
        timeout=(10, 60),
    )
    if r.status_code != 200:
        fail(f"listing answered {r.status_code}")
    listing = unwrap(r.json())
    files = listing["Files"] if isinstance(listing, dict) else listing
    files = [f for f in files if f.get("Type") != "tree"]
    report["files"] = []

    # §3.4 Download: repo?Revision=&FilePath= (quote_plus), redirects followed, Range resume into .incomplete.
    for entry in files:
        path = entry["Path"]
        size = entry["Size"]
        url = f"{endpoint}/api/v1/models/{model_id}/repo?Revision={quote_plus('master')}&FilePath={quote_plus(path)}"
        target = os.path.join(out_dir, *path.split("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        partial = target + ".incomplete"
        result = {"path": path, "size": size}
        # First attempt: stop half-way, as if the connection dropped.
        half = size // 2
        got = 0
        with s.get(url, headers=headers(bearer), stream=True, timeout=(10, 60)) as resp:
            if resp.status_code != 200:
                fail(f"download of {path} answered {resp.status_code}")
            result["redirected"] = bool(resp.history)
            with open(partial, "wb") as out:
                for chunk in resp.iter_content(chunk_size=4096):
                    take = chunk[: max(0, half - got)]
                    out.write(take)
                    got += len(take)
                    if got >= half:
                        break
        # Resume: Range: bytes=<n>- must give 206 with the remaining length, appended to the partial file.
        offset = os.path.getsize(partial)
        if offset < size:
            with s.get(url, headers=headers(dict(bearer, Range=f"bytes={offset}-")), stream=True, timeout=(10, 60)) as resp:
                result["resume_status"] = resp.status_code
                if resp.status_code != 206:
                    fail(f"resume of {path} answered {resp.status_code}, not 206")
                if int(resp.headers.get("Content-Length", "-1")) != size - offset:
                    fail(f"resume of {path} has the wrong Content-Length")
                with open(partial, "ab") as out:
                    for chunk in resp.iter_content(chunk_size=65536):
                        out.write(chunk)
        h = hashlib.sha256()
        with open(partial, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        digest = h.hexdigest()
        if os.path.getsize(partial) != size or (entry.get("Sha256") and digest != entry["Sha256"]):
            fail(f"{path}: size or sha256 does not match the listing")
        os.replace(partial, target)
        result["sha256"] = digest
        result["resumed_from"] = offset
        report["files"].append(result)

    print(json.dumps(report))


if __name__ == "__main__":
    main()
