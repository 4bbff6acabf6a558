/* the consent banner SDK: being written */
