from django.urls import path

from cocm.toolkit import implementation_views, survey_views, views

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
    path("implementation/", implementation_views.overview, name="implementation"),
    path(
        "implementation/checklist/",
        implementation_views.clinic_checklist,
        name="clinic_checklist",
    ),
    path(
        "implementation/tasks/<int:checklist_task_id>/",
        implementation_views.update_task,
        name="update_checklist_task",
    ),
    path(
        "implementation/template/",
        implementation_views.edit_template,
        name="implementation_template",
    ),
    path(
        "implementation/template/<int:checklist_template_task_id>/delete/",
        implementation_views.delete_template_task,
        name="delete_template_task",
    ),
]
