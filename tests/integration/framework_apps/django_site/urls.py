from django.contrib import admin
from django.http import JsonResponse, StreamingHttpResponse
from django.urls import path


def json_view(request):
    return JsonResponse({"ok": True, "secure": request.is_secure()})


def stream_view(request):
    return StreamingHttpResponse(f"piece {number}\n" for number in range(5))


urlpatterns = [
    path("admin/", admin.site.urls),
    path("json", json_view),
    path("stream", stream_view),
]
