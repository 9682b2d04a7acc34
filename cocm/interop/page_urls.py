from django.urls import path

from cocm.interop import tracker_views

urlpatterns = [
    path("tracker/", tracker_views.tracker_upload, name="tracker_upload"),
    path("tracker/<int:upload_id>/", tracker_views.tracker_review, name="tracker_review"),
]
