from pedsdesk.practices.forms import PracticeModelForm
from pedsdesk.schools.models import School, SchoolDay


class SchoolForm(PracticeModelForm):
    class Meta:
        model = School
        fields = ["name", "district", "is_preschool", "start_time", "dismissal_time", "early_release_time",
                  "first_day", "last_day", "phone", "street", "city"]


class SchoolDayForm(PracticeModelForm):
    class Meta:
        model = SchoolDay
        fields = ["date", "kind", "note"]

    def __init__(self, *args, school: School, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.school = school

    def validate_unique(self):
        # school is not a form field, so Django would skip the (school, date) check.
        from django.core.exceptions import ValidationError

        date = self.cleaned_data.get("date")
        taken = SchoolDay.objects.filter(school=self.instance.school, date=date).exclude(pk=self.instance.pk)
        if date and taken.exists():
            self.add_error("date", ValidationError(f"{date} is already on this school's calendar."))
