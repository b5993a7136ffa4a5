# Production image: the app only; PostgreSQL runs beside it (see docker-compose.yml).
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy
RUN pip install --no-cache-dir uv
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
COPY bot ./bot
COPY nlu ./nlu
COPY backoffice ./backoffice
COPY catalog ./catalog
COPY foundation ./foundation
COPY casework ./casework
COPY ventanilla ./ventanilla
RUN uv sync --locked --no-dev
ENV PATH="/app/.venv/bin:$PATH"
EXPOSE 8000
# serve applies migrations, loads the sample catalogue into an empty database and prints the
# first administrator's generated password once (docker compose logs app).
CMD ["ventanilla", "serve", "--host", "0.0.0.0", "--port", "8000"]
