from django.urls import path

from pedsdesk.workqueue import views

urlpatterns = [
    path("tasks/", views.my_tasks, name="my_tasks"),
    path("tasks/team/", views.team_queue, name="team_tasks"),
    path("tasks/<int:pk>/", views.task_detail, name="task_detail"),
    path("tasks/<int:pk>/claim/", views.task_claim, name="task_claim"),
    path("tasks/<int:pk>/complete/", views.task_complete, name="task_complete"),
    path("tasks/<int:pk>/snooze/", views.task_snooze, name="task_snooze"),
    path("tasks/<int:pk>/reassign/", views.task_reassign, name="task_reassign"),
]
