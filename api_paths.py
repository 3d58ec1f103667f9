"""The backend API's URL paths, shared by its routes and every client.

A top-level module with no imports, because both sides of the API must import it and the
import rules allow no other common home: `backend_stub/` imports neither `abr/` nor
`player/`, `player/` imports neither `simulator/` nor `backend_stub/`. A route and its
clients use the same constant, so a path changes in one place. Templates use the
`{name}` fields FastAPI's route decorators read; clients fill them with `str.format`.
"""

HEALTHZ = "/healthz"
# The origin's wall clock as ISO-8601 text: live MPDs' UTCTiming (http-iso) points here.
TIME = "/api/v1/time"
AUTH_TOKEN = "/api/v1/auth/token"

VIDEOS = "/api/v1/videos"
VIDEO = "/api/v1/videos/{video_id}"
VIDEO_MANIFEST = "/api/v1/videos/{video_id}/manifest"
RECOMMENDATIONS = "/api/v1/users/me/recommendations"
CONTINUE_WATCHING = "/api/v1/users/me/continue-watching"
PLAYBACK_PROGRESS = "/api/v1/playback/progress"

CLEARKEY_LICENSE = "/api/v1/license/clearkey"
HLS_KEY = "/api/v1/keys/{video_id}/hls.key"
EDGE_VALIDATE = "/api/v1/edge/validate"
DEBUG_ORIGIN_FETCHES = "/api/v1/debug/origin-fetches"

UPLOADS = "/api/v1/uploads"
UPLOAD = "/api/v1/uploads/{upload_id}"
UPLOAD_SUBTITLES = "/api/v1/uploads/{upload_id}/subtitles/{language}"
UPLOAD_AUDIO = "/api/v1/uploads/{upload_id}/audio/{language}"
UPLOAD_COMPLETE = "/api/v1/uploads/{upload_id}/complete"
