"""The acknowledgement form: it names the revision the agent was shown."""

from django import forms


class AcknowledgeForm(forms.Form):
    revision = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**63 - 1)
