from django.urls import path

from cocm.billing import views

urlpatterns = [
    path("billing/", views.billing_home, name="billing_home"),
    path("billing/fees/", views.fee_schedules, name="fee_schedules"),
    path("billing/<str:month>/", views.billing_month, name="billing_month"),
    path("billing/<str:month>/episodes/<int:episode_id>/", views.mark_line, name="mark_line"),
    path("billing/<str:month>/close/", views.close_month, name="close_month"),
]
