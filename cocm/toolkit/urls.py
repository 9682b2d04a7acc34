from django.urls import path

from cocm.toolkit import survey_views, views

urlpatterns = [
    path("episodes/<int:episode_id>/handout.pdf", views.patient_handout, name="patient_handout"),
    path(
        "episodes/<int:episode_id>/survey/",
        survey_views.send_patient_survey,
        name="send_patient_survey",
    ),
    path("surveys/", survey_views.survey_results, name="survey_results"),
    path("surveys/send/", survey_views.send_staff_survey, name="send_staff_survey"),
    path("surveys/answer/", survey_views.answer_survey, name="answer_survey"),
    path("s/<str:token>/", survey_views.survey_response, name="survey_response"),
]
