# The geogrid API image (used by docker-compose.yml); the database runs in the postgis container.
FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm make \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
# Leaflet and plugins are vendored from npm first, so the installed package serves them (no CDN).
RUN make maps-vendor PYTHON=python3 && pip install --no-cache-dir .
EXPOSE 8000
CMD ["geogrid", "serve", "--host", "0.0.0.0"]
