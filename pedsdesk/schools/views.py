from django.contrib import messages
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from pedsdesk.audit.actions import record_event
from pedsdesk.practices.web import StaffCreateView, StaffDetailView, StaffListView, StaffUpdateView, requires
from pedsdesk.schools.forms import SchoolDayForm, SchoolForm
from pedsdesk.schools.models import School, SchoolDay


class SchoolList(StaffListView):
    model = School
    permission = "schools.view"
    audit_reads = False
    title = "Schools"
    columns = [("Name", "name"), ("District", "district"), ("Starts", "start_time"), ("Dismissal", "dismissal_time")]
    search_fields = ["name", "district"]
    create_url_name = "school_create"
    create_permission = "schools.edit"


class SchoolDetail(StaffDetailView):
    model = School
    permission = "schools.view"
    audit_reads = False
    template_name = "schools/school_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        today = self.request.user.practice.local_now().date()
        context.update(
            upcoming=self.object.calendar.filter(date__gte=today)[:30],
            student_count=self.object.students.filter(is_active=True).count(),
            day_form=SchoolDayForm(practice=self.request.user.practice, school=self.object),
        )
        return context


class SchoolCreate(StaffCreateView):
    model = School
    form_class = SchoolForm
    permission = "schools.edit"


class SchoolUpdate(StaffUpdateView):
    model = School
    form_class = SchoolForm
    permission = "schools.edit"


@requires("schools.edit")
def school_day_create(request, pk: int):
    school = get_object_or_404(School, pk=pk, practice=request.user.practice)
    form = SchoolDayForm(request.POST or None, practice=request.user.practice, school=school)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            day = form.save()
            record_event(actor=request.user, action="create", obj=day, practice_id=school.practice_id,
                         request=request)
        messages.success(request, f"Added {day.date} ({day.get_kind_display().lower()}).")
        return redirect(school)
    return render(request, "records/form.html", {"form": form, "title": f"Calendar day for {school}",
                                                 "cancel_url": school.get_absolute_url()})


@require_POST
@requires("schools.edit")
def school_day_delete(request, pk: int):
    day = get_object_or_404(SchoolDay, pk=pk, school__practice=request.user.practice)
    with transaction.atomic():
        record_event(actor=request.user, action="delete", obj=day, practice_id=day.school.practice_id,
                     detail={"date": str(day.date)}, request=request)
        day.delete()
    return redirect(day.school)
