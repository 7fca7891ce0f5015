DROP TABLE templates;
DROP FUNCTION check_global_template_name_collision();
