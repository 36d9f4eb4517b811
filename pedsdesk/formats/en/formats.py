# English clock times as American families read them ("9:00 AM"), not Django's "9 a.m.".
# Spanish keeps Django's own formats (24-hour "15:55"), so no sentence ends in "p. m..".
TIME_FORMAT = "g:i A"
