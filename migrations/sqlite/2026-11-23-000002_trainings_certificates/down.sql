DROP TABLE certificates;
DROP TABLE training_attendees;
DROP TABLE trainings;
