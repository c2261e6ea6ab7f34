"""geogrid: community grid management (网格化服务管理) on PostGIS."""
