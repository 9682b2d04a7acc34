from django.apps import AppConfig


class BenchConfig(AppConfig):
    name = "cocm.bench"
    label = "bench"
    verbose_name = "Benchmarks"
