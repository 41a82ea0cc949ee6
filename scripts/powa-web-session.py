#!/usr/bin/env python3
"""Drives a running powa-web over HTTP as a user's browser does, for the
test suite (Tests/IntegrationTests/PowaWebTests.swift).

Logs in, reads the server list and one server's page, and asks powa-web for
each collector action it offers (RELOAD; FORCE_SNAPSHOT and REFRESH_DB_CAT
from powa-web 5 on). Prints one JSON object with what powa-web answered, for
the Swift test to judge; exits 2 when powa-web cannot be reached or logged
into at all. Standard library only, so any python3 runs it.

    powa-web-session.py --url http://127.0.0.1:PORT/ --flavor 5|4 --srvid N
        --user ROLE --password-file FILE --server NAME [--dbname DB]
        [--wait SECONDS]

The password is read from a file, never from argv.
"""

import argparse
import http.cookiejar
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """The login answer is a redirect whose target matters, not its page."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class Session:
    def __init__(self, base):
        self.base = base if base.endswith("/") else base + "/"
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), NoRedirect()
        )

    def request(self, path, data=None, content_type=None, timeout=15):
        """(status, headers, body text) of one request; HTTP errors included."""
        headers = {}
        if content_type:
            headers["Content-Type"] = content_type
        req = urllib.request.Request(
            urllib.parse.urljoin(self.base, path), data=data, headers=headers
        )
        try:
            with self.opener.open(req, timeout=timeout) as answer:
                return answer.status, answer.headers, answer.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read().decode("utf-8", "replace")

    def get_json(self, path, data=None, content_type=None):
        status, _, body = self.request(path, data, content_type)
        try:
            value = json.loads(body)
        except ValueError:
            value = None
        return {"http": status, "json": value, "body": body[:500] if value is None else None}


def wait_until_up(session, seconds):
    deadline = time.monotonic() + seconds
    while True:
        try:
            status, _, _ = session.request("login/", timeout=2)
            return status
        except (urllib.error.URLError, ConnectionError, OSError):
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.2)


def status_in_list(servers, srvid):
    rows = (servers.get("json") or {}).get("data") or []
    for row in rows:
        if str(row.get("id")) == str(srvid):
            return row.get("collector_status")
    return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--flavor", choices=["4", "5"], required=True)
    parser.add_argument("--srvid", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password-file", required=True)
    parser.add_argument("--server", required=True)
    parser.add_argument("--dbname", default="powa")
    parser.add_argument("--wait", type=float, default=60)
    args = parser.parse_args()
    with open(args.password_file, encoding="utf-8") as f:
        password = f.read()

    session = Session(args.url)
    if wait_until_up(session, args.wait) is None:
        print("powa-web did not answer at %s within %s s" % (args.url, args.wait), file=sys.stderr)
        return 2
    result = {}

    # powa-web 4 names the role field `username`, 5 `user`.
    user_field = "user" if args.flavor == "5" else "username"
    form = urllib.parse.urlencode(
        {user_field: args.user, "password": password, "server": args.server}
    ).encode()
    status, headers, body = session.request("login/", form, "application/x-www-form-urlencoded")
    cookies = sorted(cookie.name for cookie in session.cookies)
    result["login"] = {"http": status, "location": headers.get("Location"), "cookies": cookies}
    # A refused login (bad credentials, or a repository whose powa
    # major.minor is not powa-web's) redirects too, with only a flash cookie.
    if status != 302 or "password" not in cookies:
        print(json.dumps(result))
        print("login refused (HTTP %s, cookies %s): %s" % (status, cookies, body[:500]), file=sys.stderr)
        return 2

    # The server list, as its grid loads it (WORKERS_STATUS, 1 s wait).
    servers = session.get_json("config/powa_servers/")
    result["server_list"] = {"http": servers["http"], "status": status_in_list(servers, args.srvid)}
    # One server's page (WORKERS_STATUS <srvid>, 2 s wait).
    detail = session.get_json("config/%s/server_details/" % args.srvid)
    result["server_page"] = {"http": detail["http"], "messages": (detail["json"] or {}).get("messages")}
    # The collector actions.
    result["reload"] = session.get_json("reload_collector/")
    if args.flavor == "5":
        result["force_snapshot"] = session.get_json("force_snapshot/%s" % args.srvid)
        body = json.dumps({"srvid": args.srvid, "dbnames": [args.dbname]}).encode()
        result["refresh_db_cat"] = session.get_json("refresh_db_cat/", body, "application/json")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
