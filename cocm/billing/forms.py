from django import forms


class FeeUploadForm(forms.Form):
    """A fee-schedule CSV: year,payer_kind,code,amount[,source]."""

    file = forms.FileField(label="Fee schedule (CSV)")

    def clean(self) -> dict:
        data = super().clean()
        upload = data.get("file")
        if upload is None:
            return data
        try:
            data["text"] = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            self.add_error("file", "The file is not UTF-8 text (save it as CSV UTF-8).")
        return data

    @property
    def file_name(self) -> str:
        upload = self.cleaned_data.get("file")
        return upload.name if upload is not None else ""
