CREATE DATABASE dagster OWNER timetable;
