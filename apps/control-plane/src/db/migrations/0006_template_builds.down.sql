DROP TABLE template_build_archives;
DROP TABLE template_builds;
