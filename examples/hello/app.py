from siphon import http, log

GREETING = "hello"


@http.on_startup
def ready():
    log.info("hello example ready")


@http.route("/")
def index(req):
    return http.Response(200, {"content-type": "text/plain"}, f"{GREETING} from siphon-deno\n")


@http.route("/echo", methods=["POST"])
async def echo(req):
    return http.Response(200, {"content-type": req.header("content-type") or "application/octet-stream"},
                         req.body())


def get_user(req):
    # Declared in http.yaml: /users/{id:int} arrives as a Python int.
    user_id = req.path_params["id"]
    return http.Response(200, {"content-type": "application/json"},
                         f'{{"id": {user_id}, "name": "user{user_id}"}}')
