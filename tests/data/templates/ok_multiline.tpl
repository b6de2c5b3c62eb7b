line1
${values.A}
line3