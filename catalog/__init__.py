"""The official catalogue of procedures and services: format, storage, import and export."""
