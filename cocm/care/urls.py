from django.urls import path

from cocm.care import views

urlpatterns = [
    path("caseload/", views.caseload, name="caseload"),
    path("episodes/<int:episode_id>/contacts/new/", views.new_contact, name="new_contact"),
    path("contacts/<int:contact_id>/edit/", views.edit_contact, name="edit_contact"),
    path("episodes/<int:episode_id>/review-request/", views.request_review, name="request_review"),
    path("episodes/<int:episode_id>/follow-up/", views.set_follow_up, name="set_follow_up"),
    path("episodes/<int:episode_id>/relapse-plan/", views.relapse_plan, name="relapse_plan"),
    path("review/", views.review_agenda, name="review_agenda"),
    path("review/episodes/<int:episode_id>/", views.review_patient, name="review_patient"),
    path("recommendations/", views.pcp_inbox, name="pcp_inbox"),
    path(
        "recommendations/<int:recommendation_id>/answer/",
        views.answer_recommendation,
        name="answer_recommendation",
    ),
    path("recommendations/reviews/<int:review_id>/", views.answer_review, name="answer_review"),
    path("tasks/", views.tasks, name="tasks"),
    path("recommendations/<int:recommendation_id>/remind/", views.remind_pcp, name="remind_pcp"),
    path("referrals/", views.pcp_patients, name="pcp_patients"),
    path(
        "follow-ups/<int:follow_up_id>/done/", views.complete_follow_up, name="complete_follow_up"
    ),
]
