"""A Bottle app, unchanged: Bottle caches what it parses in the environ (the request
object's ``repr`` parses the URL and stores it there), so an access log that reads
the live environ while turning its values to text sees it change size."""

import bottle

app = bottle.Bottle()


@app.route("/hello/<name>")
def hello(name):
    return f"hello {name}"
